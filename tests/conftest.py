"""The whole suite runs with every rewrite of ``ad.simplify`` verified.

Set before ``adjoint`` is imported, so the module default is on in this process,
and inherited by the subprocesses the suite starts (the CLI, the notebooks): a
rewrite that changes a value or cuts a dependence anywhere a test reaches the
simplifier raises ``ad.RewriteError`` naming the rule and the node.
"""

import os

os.environ["ADJOINT_VERIFY_SIMPLIFY"] = "1"
