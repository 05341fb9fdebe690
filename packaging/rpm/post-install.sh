# firstboot's %post: on the first install (not an upgrade), enable the unit so it runs
# at the next boot, as the Debian package does; never start it (an install must not
# provision the host). Nothing else.
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl --no-reload enable firstboot.service >/dev/null 2>&1 || :
fi
