{#- Bring a fleet up, or roll out a change, in dependency order:

      1. the data tier (hosts with the db or cache role), all at once;
      2. the app hosts, a batch at a time (pillar orch:app_batch, default 50%), so some keep
         serving while the others take the new code; the first batch runs the migrations;
      3. the web tier;
      4. a health check of the site through each web host.

    Each host gets one highstate: a host with several roles is taken in the first step that
    names one of them. A failed step stops the rest.

    Run on the master:  salt-run state.orchestrate orch.deploy
                        salt-run state.orchestrate orch.deploy pillar='{"orch": {"app_batch": 1}}'
-#}
{%- set batch = salt['pillar.get']('orch:app_batch', '50%') %}
{%- set data = 'G@roles:db or G@roles:cache' %}
{%- set app = 'G@roles:app and not ( ' ~ data ~ ' )' %}
{%- set web = 'G@roles:web and not ( G@roles:app or ' ~ data ~ ' )' %}

orch-data-tier:
  salt.state:
    - tgt: '{{ data }}'
    - tgt_type: compound
    - highstate: True
    - expect_minions: False
    - failhard: True

orch-app-tier:
  salt.state:
    - tgt: '{{ app }}'
    - tgt_type: compound
    - highstate: True
    - batch: '{{ batch }}'
    - expect_minions: False
    - failhard: True
    - require:
      - salt: orch-data-tier

orch-web-tier:
  salt.state:
    - tgt: '{{ web }}'
    - tgt_type: compound
    - highstate: True
    - expect_minions: False
    - failhard: True
    - require:
      - salt: orch-app-tier

# The site as a visitor reaches it, through nginx on each web host, within a deadline. The
# certificate is not judged here (-k): its validity is the certificate monitor's job.
orch-site-health:
  salt.function:
    - name: cmd.run
    - tgt: 'G@roles:web'
    - tgt_type: compound
    - arg:
      - >-
        curl --silent --show-error --fail --insecure --max-time 5
        --retry 20 --retry-delay 1 --retry-all-errors --output /dev/null
        https://127.0.0.1/health
    - kwarg:
        python_shell: False
    - require:
      - salt: orch-web-tier
