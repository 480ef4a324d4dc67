"""A Step Functions execution as a picture: the state machine laid out by Graphviz with
the path the execution took, each state coloured by its status.

Light on purpose (graphviz's Python package and the standard library only): the CLI,
which has no server dependencies, and the gateway's execution page both draw with it.
"""

from eventplane.stategraph.dot import GraphvizMissing, build, render
from eventplane.stategraph.trace import Trace, trace

__all__ = ["GraphvizMissing", "Trace", "build", "render", "trace"]
