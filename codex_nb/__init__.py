"""Offline-first, notebook-first LoRA fine-tuning and evaluation of causal language models

Modules:

- `codex_nb.packing`: Several examples in one row of `max_length` tokens without cross-talk: best-fit-decreasing bins, positions that restart at each example, attention that never crosses from one example into another."""

__version__ = "0.1.0"

_API = {
    'CodexError': 'core', 'seed_everything': 'core', 'resolve_device': 'core', 'resolve_dtype': 'core',
    'RunConfig': 'config', 'load_config': 'config', 'validate': 'config',
    'ModelSpec': 'registry', 'get_spec': 'registry', 'load_model': 'registry', 'list_models': 'registry',
    'DEFAULT_LORA': 'lora', 'apply_lora': 'lora', 'save_adapter': 'lora', 'load_adapter': 'lora',
    'read_jsonl': 'data', 'write_jsonl': 'data', 'humaneval_records': 'data', 'split_jsonl': 'data',
    'SplitPaths': 'data', 'build_manifest': 'data', 'Manifest': 'data', 'tokenize_example': 'data',
    'SafetyPolicy': 'safety', 'SafetyFilters': 'safety',
    'NDJSONTracker': 'tracking', 'read_metrics': 'tracking', 'plot_loss': 'tracking',
    'train': 'trainer', 'RunResult': 'trainer',
    'get_metric': 'metrics', 'pass_at_k': 'metrics',
    'evaluate_run': 'evaluation', 'EvalResult': 'evaluation', 'generate': 'evaluation',
    'export_run': 'export', 'ExportResult': 'export',
}

__all__ = ['__version__', *_API]


def __getattr__(name):
    if name in _API:
        import importlib
        return getattr(importlib.import_module(f'{__name__}.{_API[name]}'), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
