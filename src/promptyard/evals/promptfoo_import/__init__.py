"""Importing a promptfoo project: `promptyard import promptfoo promptfooconfig.yaml`.

promptfoo's prompts (inline, `file://` text files split at `---`, JSON chat messages),
providers (to models.yaml names, litellm strings, or the built-in `echo` model), tests
(`vars`, `assert`, `defaultTest`, `tests: file://...csv`) and their `threshold`/`weight`
become Promptyard prompts, a dataset and a suite, each committed. What cannot be carried
over is listed in the report with the reason; a test with an unsupported assertion is
skipped as a whole, never silently. Nothing from the project is executed.

`reading` reads the config and its files, `assertions` and `providers` map promptfoo's
names, `build` makes the plan, `apply` validates and saves it.
"""

from promptyard.evals.promptfoo_import.apply import ImportReport, import_promptfoo, suite_text
from promptyard.evals.promptfoo_import.assertions import SAME_MEANING, from_csv
from promptyard.evals.promptfoo_import.build import Plan, build, nunjucks_to_jinja
from promptyard.evals.promptfoo_import.providers import ECHO_MODEL, model_for
from promptyard.evals.promptfoo_import.reading import PromptfooImportError

__all__ = [
    "ECHO_MODEL",
    "SAME_MEANING",
    "ImportReport",
    "Plan",
    "PromptfooImportError",
    "build",
    "from_csv",
    "import_promptfoo",
    "model_for",
    "nunjucks_to_jinja",
    "suite_text",
]
