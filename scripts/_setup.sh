# Shared set-up for scripts/demo.sh and scripts/test.sh (sourced, not run).

install_qt_libs() {
    # What Qt needs offscreen, what its xcb plugin links (a window under X11 or xvfb-run),
    # and xvfb itself for machines without a screen; only what is missing (root or sudo).
    # The list is the Debian packages of the PySide6 6.11 libraries' shared-library needs.
    local pkgs="libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
        fonts-dejavu-core libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4
        libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-render0
        libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
        libxkbcommon-x11-0 xvfb xauth"
    local missing=""
    for p in $pkgs; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing system libraries for Qt:$missing"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq $missing >/dev/null
}

make_venv() {
    # Create .venv with python3.11+ and install the project (with extras given as $1).
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv .venv 2>/dev/null; then
            rm -rf .venv
            local sudo=""
            [ "$(id -u)" -ne 0 ] && sudo="sudo"
            $sudo apt-get update -qq && $sudo apt-get install -y -qq python3-venv >/dev/null
            python3 -m venv .venv
        fi
    fi
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e "$1"
}
