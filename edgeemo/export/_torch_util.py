"""Small PyTorch helpers shared by the exporters."""


def eval_mode(module):
    """``module.eval()``, except for ExportedProgram modules, which are already in inference form."""
    try:
        return module.eval()
    except NotImplementedError:
        return module
