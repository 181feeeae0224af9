# Certificates of the nginx site: private CA roots the host trusts, a self-signed bootstrap pair
# so nginx can start, then the real certificate from an ACME CA (certbot, http-01 over the
# site's webroot), renewed by the platform's certbot timer with a hook that checks and reloads
# nginx.
include:
  - validation
  - certs.trust
  - certs.bootstrap
  - certs.acme
