# Staging (the lab): small sizes.
app:
  gunicorn:
    workers: 2
  systemd:
    memory_max: 256M
redis:
  maxmemory: 64mb
postgres:
  # Lab hosts see the whole machine's memory; a fixed shared_buffers keeps five of them small.
  tuning:
    shared_buffers_mb: 256
nginx:
  site:
    server_names:
      - app.example.test
      - www.app.example.test
