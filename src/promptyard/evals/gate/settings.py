"""`gate.yaml`: the gate's own settings, read from the trusted baseline revision only.

```yaml
allow_code: [keeps_numbers.py]   # custom evaluators the gate may run without --allow-code
# allow_code: true               # every custom evaluator file of the baseline
```
"""

from __future__ import annotations

from promptyard.evals.gate.result import GateConfigError

GATE_FILE = "gate.yaml"


def allowed_code(text: bytes | None) -> bool | list[str]:
    """What `allow_code` in gate.yaml's text allows: True (all), a list of evaluator file
    names, or False (none; also without the file). Raises GateConfigError for a bad file."""
    import yaml

    if text is None:
        return False
    try:
        data = yaml.safe_load(text.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise GateConfigError(f"{GATE_FILE}: not valid YAML: {exc}") from None
    if data is None:
        return False
    if not isinstance(data, dict):
        raise GateConfigError(f"{GATE_FILE}: must be a mapping (such as allow_code: [x.py])")
    unknown = sorted(str(k) for k in data if k != "allow_code")
    if unknown:
        raise GateConfigError(f"{GATE_FILE}: unknown key {unknown[0]!r} (known: allow_code)")
    value = data.get("allow_code", False)
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        names = [v.removeprefix("evaluators/") for v in value]
        return [n if n.endswith(".py") else n + ".py" for n in names]
    raise GateConfigError(
        f"{GATE_FILE}: allow_code must be true, false or a list of evaluator file names, got {value!r}"
    )
