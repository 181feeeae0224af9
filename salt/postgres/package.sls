{%- from "postgres/map.jinja" import postgres with context %}

postgres-package:
  pkg.installed:
    - pkgs:
{%- for package in postgres.packages %}
      - {{ package }}
{%- endfor %}
      - postgresql-{{ postgres.version }}
