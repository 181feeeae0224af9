{%- from "hardening/map.jinja" import hardening with context %}

include:
  - validation

{%- if hardening.disable_core_dumps %}

# No core dumps: a crashed process's memory can hold secrets.
hardening-core-dumps-limits:
  file.managed:
    - name: /etc/security/limits.d/10-wsp-no-core.conf
    - contents: |
        # Managed by Salt (hardening formula).
        * hard core 0
        * soft core 0
    - mode: '0644'

hardening-core-dumps-systemd:
  file.managed:
    - name: /etc/systemd/coredump.conf.d/10-wsp-no-core.conf
    - makedirs: True
    - contents: |
        # Managed by Salt (hardening formula).
        [Coredump]
        Storage=none
        ProcessSizeMax=0
    - mode: '0644'

hardening-core-dumps-services:
  file.managed:
    - name: /etc/systemd/system.conf.d/10-wsp-no-core.conf
    - makedirs: True
    - contents: |
        # Managed by Salt (hardening formula).
        [Manager]
        DefaultLimitCORE=0
    - mode: '0644'
{%- endif %}

# needrestart's setting comes first: once installed, it runs after every apt transaction.
hardening-needrestart-list-only:
  file.managed:
    - name: /etc/needrestart/conf.d/50-wsp-list-only.conf
    - makedirs: True
    - contents: |
        # Managed by Salt (hardening formula): report services to restart, restart none.
        $nrconf{restart} = 'l';
    - mode: '0644'

hardening-security-packages:
  pkg.installed:
    - pkgs: {{ hardening.security_packages | tojson }}
    - require:
      - file: hardening-needrestart-list-only

hardening-legacy-packages-absent:
  pkg.purged:
    - pkgs: {{ hardening.legacy_packages | tojson }}

{%- for key, value in hardening.login_defs | dictsort %}

hardening-login-defs-{{ key | lower }}:
  file.replace:
    - name: /etc/login.defs
    - pattern: '^{{ key }}\s.*$'
    - repl: '{{ key }} {{ value }}'
    - append_if_not_found: True
{%- endfor %}

hardening-banner-console:
  file.managed:
    - name: /etc/issue
    - contents: {{ hardening.banner | tojson }}
    - mode: '0644'

hardening-kernel-modules-blacklist:
  file.managed:
    - name: /etc/modprobe.d/wsp-hardening.conf
    - makedirs: True
    - contents: |
        # Managed by Salt (hardening formula): modules a server does not load.
{%- for module in hardening.blacklisted_modules %}
        install {{ module }} /bin/false
        blacklist {{ module }}
{%- endfor %}
    - mode: '0644'

# Only files and folders that exist are managed: a host without cron has no /etc/crontab.
{%- for path, perms in hardening.file_modes | dictsort %}

hardening-mode-{{ path }}:
  file.managed:
    - name: {{ path }}
    - create: False
    - replace: False
    - user: {{ perms.user }}
    - group: {{ perms.group }}
    - mode: '{{ perms.mode }}'
{%- endfor %}

{%- for path, perms in hardening.dir_modes | dictsort %}

hardening-mode-{{ path }}:
  file.directory:
    - name: {{ path }}
    - user: {{ perms.user }}
    - group: {{ perms.group }}
    - mode: '{{ perms.mode }}'
    - onlyif: test -d {{ path }}
{%- endfor %}
