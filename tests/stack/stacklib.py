"""The stack helpers the tests use are the ones `server/stack validate` uses:
server/validate/xmppstack.py. This module re-exports them under the name the tests import."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "server", "validate"))
from xmppstack import *  # noqa: E402,F401,F403
from xmppstack import client_class as _client_class  # noqa: E402,F401
