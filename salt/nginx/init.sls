# nginx as the TLS load balancer in front of the app hosts, with its certificates.
include:
  - validation
  - nginx.package
  - nginx.config
  - nginx.service
  - certs
