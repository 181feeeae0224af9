{#- The reactor's answer to the wsp_health beacon's events
    (salt/beacon/<minion>/wsp_health/<alert|recovered>/<check>):

      - a service that went down is started again on its host; the beacon's "recovered"
        event then tells that it worked;
      - a certificate that went critical is renewed by the platform's certbot service, whose
        deploy hook reloads nginx;
      - every event, alert or recovery, goes to the notification webhook in the host's pillar.

    A reactor file holds calls, not states: local.* runs a function on minions, runner.* on
    the master. Only names that look like unit names are acted on. -#}
{%- set minion = data.get('id', '') %}
{%- set check = data.get('name', '') | string %}
{%- set alert = data.get('state') == 'alert' %}
{%- set unit = check.split(':', 1)[1] if check.startswith('service:') else '' %}

{%- if alert and unit and unit is match('^[A-Za-z0-9_@.-]+$') %}

reactor-health-start-service:
  local.service.start:
    - tgt: {{ minion | tojson }}
    - args:
      - name: {{ unit | tojson }}
{%- elif alert and check.startswith('cert:') %}

reactor-health-renew-certificate:
  local.service.start:
    - tgt: {{ minion | tojson }}
    - args:
      - name: certbot.service
{%- endif %}

reactor-health-notify:
  runner.wsp_fleet.notify:
    - args:
      - minion: {{ minion | tojson }}
      - tag: {{ tag | tojson }}
      - event: {{ data | tojson }}
