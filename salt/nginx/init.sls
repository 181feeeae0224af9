# nginx as the load balancer in front of the app hosts.
include:
  - validation
  - nginx.package
  - nginx.config
  - nginx.service
