{#- One value feeds both the formulas' own-address lookup and the mine alias they read peers
    from, so the two cannot disagree. #}
{%- set internal_cidr = '198.18.0.0/24' %}
network:
  internal_cidr: {{ internal_cidr }}

# Peers find each other through this mine alias: mine.get('G@roles:app', 'internal_ip', ...).
mine_functions:
  internal_ip:
    - mine_function: network.ip_addrs
    - cidr: {{ internal_cidr }}
