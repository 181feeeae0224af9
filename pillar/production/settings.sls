# Production settings. No secrets here: postgres:app:password and redis:password must come
# from the encrypted pillar, and the formulas stop with an error while they are missing.
app:
  gunicorn:
    workers: 4
  systemd:
    memory_max: 1G
redis:
  maxmemory: 512mb
nginx:
  site:
    server_names:
      - app.example.test
certs:
  acme:
    directory: https://acme-v02.api.letsencrypt.org/directory
