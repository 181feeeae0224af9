# Jobs every minion's scheduler runs (Salt reads pillar "schedule" by itself; a pillar refresh
# is enough to change them). splay spreads the fleet's runs so they do not hit the master at once.
# run_on_start is off: a booting fleet is converged by its operator (orch.deploy), and a
# highstate of the scheduler's own at the same moment would only queue up behind it.
schedule:
  # The whole highstate, so drift is put right even when nobody runs Salt.
  wsp-highstate:
    function: state.apply
    minutes: 60
    splay: 600
    run_on_start: false
    return_job: false
  # The health checks, their result kept in the job cache (the beacon does the alerting).
  wsp-health:
    function: wsp_health.run
    minutes: 5
    run_on_start: false
  # Certificates graded, and the custom modules synced from the master, once a day.
  wsp-certificates:
    function: wsp_cert.check
    hours: 24
    splay: 3600
    run_on_start: false
  wsp-sync-modules:
    function: saltutil.sync_all
    hours: 24
    splay: 3600
    run_on_start: false
