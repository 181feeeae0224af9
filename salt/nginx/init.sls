# nginx as the load balancer in front of the app hosts.
include:
  - nginx.package
  - nginx.config
  - nginx.service
