# PostgreSQL for the app: SCRAM-only authentication, a fully managed pg_hba.conf, and the
# app's role and database.
include:
  - validation
  - postgres.package
  - postgres.config
  - postgres.service
  - postgres.app
