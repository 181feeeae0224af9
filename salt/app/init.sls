# A Python web app (by default the acoustic-lab demo): code from git or salt://, venv with its
# requirements, configuration, schema migrations and a hardened gunicorn unit.
include:
  - validation
  - app.user
  - app.package
  - app.code
  - app.venv
  - app.config
  - app.migrate
  - app.service
