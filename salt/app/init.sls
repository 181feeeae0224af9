# The acoustic-lab demo app: code, venv, configuration and a hardened gunicorn unit.
include:
  - validation
  - app.user
  - app.package
  - app.code
  - app.venv
  - app.config
  - app.service
