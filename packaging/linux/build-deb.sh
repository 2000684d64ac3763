#!/usr/bin/env bash
# Build the pharmacy's Debian package from a built bundle (make package): make deb.
# Usage: packaging/linux/build-deb.sh dist/caja-isseg dist
set -euo pipefail
BUNDLE=$(cd "${1:?uso: build-deb.sh CARPETA_DEL_PAQUETE SALIDA}" && pwd)
OUT=$(mkdir -p "${2:?}" && cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BASE=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -1)
# Every build gets a higher version than the last, so `apt install ./new.deb` upgrades
# (no --reinstall): the last commit's date and the number of commits from git; outside a git
# checkout, the build's date and time. ISSEG_DEB_VERSION sets it outright.
if [ -n "${ISSEG_DEB_VERSION:-}" ]; then
    VERSION=$ISSEG_DEB_VERSION
elif COMMITS=$(git -C "$ROOT" rev-list --count HEAD 2>/dev/null); then
    VERSION="$BASE+git$(git -C "$ROOT" log -1 --format=%cd --date=format:%Y%m%d).$COMMITS"
else
    VERSION="$BASE+build$(date -u +%Y%m%d.%H%M%S)"
fi
ARCH=$(dpkg --print-architecture)
STAGE=$(mktemp -d)
chmod 0755 "$STAGE"   # the package's root is /: never 0700 as mktemp makes it
trap 'rm -rf "$STAGE"' EXIT

install -d "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/lib/caja-isseg" "$STAGE/usr/share/xsessions" \
    "$STAGE/usr/share/caja-isseg/central" "$STAGE/usr/share/caja-isseg/nginx" \
    "$STAGE/etc/lightdm/lightdm.conf.d" "$STAGE/etc/default" "$STAGE/lib/udev/rules.d" \
    "$STAGE/DEBIAN"
cp -a "$BUNDLE" "$STAGE/opt/caja-isseg"
ln -s /opt/caja-isseg/isseg-farmacia "$STAGE/usr/bin/isseg-farmacia"
install -m 0755 "$HERE/isseg-kiosko-session" "$STAGE/usr/lib/caja-isseg/"
install -m 0644 "$HERE/isseg-kiosko.desktop" "$STAGE/usr/share/xsessions/"
install -m 0644 "$HERE/openbox-rc.xml" "$STAGE/usr/share/caja-isseg/"
install -m 0644 "$HERE/50-isseg-kiosko.conf" "$STAGE/etc/lightdm/lightdm.conf.d/"
install -m 0644 "$HERE/caja-isseg.default" "$STAGE/etc/default/caja-isseg"
install -m 0644 "$HERE/60-isseg-impresoras.rules" "$STAGE/lib/udev/rules.d/"
install -m 0644 "$ROOT/packaging/central/"* "$STAGE/usr/share/caja-isseg/central/"
install -m 0644 "$ROOT/packaging/nginx/"* "$STAGE/usr/share/caja-isseg/nginx/"
install -m 0644 "$ROOT/packaging/README.md" "$STAGE/usr/share/caja-isseg/"
install -m 0755 "$HERE/deb/postinst" "$HERE/deb/postrm" "$STAGE/DEBIAN/"
# The operator's settings: an upgrade keeps their edits (dpkg asks when both changed).
printf '%s\n' /etc/lightdm/lightdm.conf.d/50-isseg-kiosko.conf /etc/default/caja-isseg \
    > "$STAGE/DEBIAN/conffiles"
SIZE=$(du -sk "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: caja-isseg
Version: $VERSION
Architecture: $ARCH
Maintainer: Sistemas ISSEG <sistemas@isseg.gob.mx>
Installed-Size: $SIZE
Depends: libc6 (>= 2.36), adduser, openbox, x11-xserver-utils
Recommends: lightdm, xserver-xorg
Section: misc
Priority: optional
Description: Caja ISSEG: caja y kiosko de cobro de préstamos ISSEG en farmacias
 Punto de venta y kiosko de autoservicio con su sesión de pantalla completa
 (caja, kiosko o gerente según /etc/default/caja-isseg; openbox, sin protector de
 pantalla, reinicio tras una falla), usuario dedicado con inicio automático,
 reglas udev para impresoras de tickets USB y el servidor central.
CONTROL
# Earlier builds in the same folder go, so ./dist/caja-isseg_*.deb names this one only.
rm -f "$OUT"/caja-isseg_*_"$ARCH".deb
dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$OUT/caja-isseg_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/caja-isseg_${VERSION}_${ARCH}.deb"
