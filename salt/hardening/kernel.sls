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
