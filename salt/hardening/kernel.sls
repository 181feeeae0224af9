{%- from "hardening/map.jinja" import hardening, in_container with context %}

include:
  - validation

# Each setting is applied now and kept in one file for the next boot.
{%- for key, value in hardening.net_sysctls | dictsort %}

hardening-sysctl-{{ key }}:
  sysctl.present:
    - name: {{ key }}
    - value: {{ value }}
    - config: {{ hardening.sysctl_file }}
{%- endfor %}

{%- if in_container %}

# Limitation: inside a container the kernel's own settings belong to the machine that runs it
# (read-only here); on a VM or bare metal the same state applies them.
hardening-sysctl-kernel-skipped:
  test.show_notification:
    - text: >-
        container ({{ grains.get('virtual') }}): kernel settings left to the machine that runs
        it: {{ hardening.kernel_sysctls | dictsort | map('join', '=') | join(', ') }}
{%- else %}
{%-   for key, value in hardening.kernel_sysctls | dictsort %}

hardening-sysctl-{{ key }}:
  sysctl.present:
    - name: {{ key }}
    - value: {{ value }}
    - config: {{ hardening.sysctl_file }}
{%-   endfor %}
{%- endif %}

{%- if hardening.audit.enabled %}
{%-   if in_container %}

# Limitation: the kernel's audit subsystem is not namespaced, so auditd cannot run inside a
# container (it fails and leaves the host degraded); the machine that runs it keeps the audit log.
hardening-audit-skipped:
  test.show_notification:
    - text: >-
        container ({{ grains.get('virtual') }}): auditd left out, the kernel's audit log belongs
        to the machine that runs it
{%-   else %}

# The kernel's audit log: logins, privilege changes and the use of sudo, kept apart from syslog.
hardening-audit-package:
  pkg.installed:
    - pkgs: {{ hardening.audit.packages | tojson }}

hardening-audit-service:
  service.running:
    - name: {{ hardening.audit.service }}
    - enable: True
    - require:
      - pkg: hardening-audit-package
{%-   endif %}
{%- endif %}
