"""Imports a Lambda asset in a fresh interpreter that sees nothing else (is it self-contained?)."""

from __future__ import annotations


def autotagger_modules_loaded(asset_dir, cwd, also_import: str = "") -> tuple[dict, dict]:
    """Imports an asset's `handler` (and `also_import`) in a fresh interpreter that sees only
    `asset_dir`; returns the autotagger modules it loaded (name -> file) and those loaded from
    anywhere else (the asset is then not self-contained)."""
    import json
    import os
    import subprocess
    import sys

    probe = (
        f"import json, sys; sys.path.insert(0, sys.argv[1]); import handler; {also_import}"
        "print(json.dumps({n: getattr(m, '__file__', None) for n, m in sys.modules.items() "
        "if n == 'autotagger' or n.startswith('autotagger.')}))"
    )
    environment = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                   "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([sys.executable, "-c", probe, str(asset_dir)], capture_output=True, text=True,
                            cwd=cwd, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded, {name: file for name, file in loaded.items() if file and not file.startswith(str(asset_dir))}
