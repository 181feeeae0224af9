# Non-secret nginx settings shared by every environment; formula defaults cover the rest.
nginx:
  site:
    server_tokens: 'off'
  upstream:
    port: 8000
