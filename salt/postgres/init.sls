# PostgreSQL for the app: SCRAM-only authentication, a fully managed pg_hba.conf, and the
# app's role and database, PgBouncer in front, and encrypted nightly backups.
include:
  - validation
  - postgres.package
  - postgres.config
  - postgres.service
  - postgres.app
  - postgres.pgbouncer
  - postgres.backup
