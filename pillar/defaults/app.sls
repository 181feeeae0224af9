# Non-secret app settings shared by every environment; formula defaults cover the rest.
app:
  user: acoustic
  source: salt://acoustic-lab
  gunicorn:
    port: 8000
    workers: 2
