#!/usr/bin/env bash
# Build the standalone mint-tui executable with PyInstaller (see build_exe.spec and README "Standalone executable").
#
#   scripts/build_exe.sh            one file:   dist/mint-tui
#   scripts/build_exe.sh --onedir   one folder: dist/mint-tui-onedir/mint-tui (starts faster)
#   scripts/build_exe.sh --both     both
#
# Other arguments go to the spec (--keep-symbols). Sets up .venv (make setup) and installs the `build`
# extra (PyInstaller) when missing. NICE=19 runs PyInstaller at the lowest CPU priority.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
modes=(onefile)
spec_args=()
for arg in "$@"; do
    case "$arg" in
        --onedir) modes=(onedir) ;;
        --both) modes=(onefile onedir) ;;
        --onefile) modes=(onefile) ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) spec_args+=("$arg") ;;
    esac
done

[ -x "$PY" ] || make setup
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    echo "build_exe: installing PyInstaller (the 'build' extra)" >&2
    "$PY" -m pip install -q -c constraints.txt -e '.[build]'
fi

# OpenCV for the executable: opencv-python-headless of the version the package uses (mediapipe installs
# opencv-contrib-python, whose contrib modules, Qt GUI and ffmpeg device/filter libraries mint-tui never
# uses: about 20 MB of the one file). It goes into the work folder, first on PYTHONPATH for PyInstaller
# only; .venv keeps opencv-contrib-python. exe_smoke.py checks that the scores stay identical.
cv_version=$("$PY" -c "import importlib.metadata as m; print(m.version('opencv-contrib-python'))")
cv_dir=build/exe/opencv-headless-$cv_version
if [ ! -f "$cv_dir/cv2/__init__.py" ]; then
    echo "build_exe: installing opencv-python-headless==$cv_version into $cv_dir (for the executable only)" >&2
    rm -rf "$cv_dir"
    "$PY" -m pip install -q --no-deps --target "$cv_dir" "opencv-python-headless==$cv_version"
fi

for mode in "${modes[@]}"; do
    args=("${spec_args[@]}")
    [ "$mode" = onedir ] && args+=(--onedir)
    start=$(date +%s)
    # One work folder for both modes: the analysis (the slow part) is reused when only the mode changes.
    PYTHONPATH="$PWD/$cv_dir${PYTHONPATH:+:$PYTHONPATH}" nice -n "${NICE:-0}" "$PY" -m PyInstaller --noconfirm --log-level "${PYI_LOG_LEVEL:-WARN}" \
        --workpath build/exe --distpath dist build_exe.spec -- "${args[@]}"
    if [ "$mode" = onedir ]; then
        out=dist/mint-tui-onedir
    else
        out=dist/mint-tui
    fi
    echo "build_exe: $mode build $out: $(du -sh "$out" | cut -f1) in $(( $(date +%s) - start )) s"
done
