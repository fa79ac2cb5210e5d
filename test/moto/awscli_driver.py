# The AWS CLI (v1) kept running for test/moto (see cli.go): one Python
# process answers many commands, so a test's own calls do not each pay the
# CLI's start-up (about half a second of CPU). The scripts under test reach
# it through serve.go; a command that may read standard input runs as the
# real `aws` (cli.go, readsStdin), since this process's standard input
# carries the requests. What each command's session builds anew and what
# depends only on its input (the handlers' signatures, the service models)
# is shared between commands, the handler tree is copied in one function,
# and the garbage collector runs less often: about half the CPU a command
# (share_pure_caches, share_service_models, copy_handlers_faster, gc
# below).
#
# Protocol: one JSON request a line on stdin,
#   {"args": ["ec2", "describe-vpcs", ...], "env": ["KEY=VALUE", ...], "dir": "/path"}
# and one JSON answer a line on stdout, {"code": N, "stdout": "...", "stderr": "..."}.
# A command sees exactly env as its environment and dir as its working
# directory, as a process of its own would. The process ends when stdin
# closes.
import contextlib
import copy
import functools
import gc
import io
import json
import os
import sys
import types

import awscli
import botocore.client
import botocore.hooks
import botocore.model
import botocore.session
from awscli import EnvironmentVariables
from awscli.clidriver import CLIDriver, _set_user_agent_for_session, load_plugins


def share_pure_caches():
    """Shares between sessions what botocore computes again for each one and
    that depends only on its input: whether an event handler takes **kwargs
    (one inspect.getfullargspec a handler, hundreds a session), the aliased
    name of an event, and a client's methods, one a call of every operation
    of the service (they name the operation; their docstrings, never read by
    the CLI, are made on demand). Skipped if botocore has changed shape."""
    base = getattr(botocore.hooks, "BaseEventHooks", None)
    aliaser = getattr(botocore.hooks, "EventAliaser", None)
    creator = getattr(botocore.client, "ClientCreator", None)
    if base is None or aliaser is None or creator is None or not all(
            hasattr(*a) for a in [(base, "_verify_accept_kwargs"), (creator, "_create_methods")]):
        return
    verify = base._verify_accept_kwargs
    verified = {}

    def verify_once(self, func):
        key = signature_key(func)
        try:
            if key is not None and key in verified:
                return verified[key]
        except TypeError:  # not hashable
            return verify(self, func)
        result = verify(self, func)
        if key is not None:
            verified[key] = result
        return result

    base._verify_accept_kwargs = verify_once
    init = aliaser.__init__
    aliases = {}

    def init_sharing(self, event_emitter, event_aliases=None):
        init(self, event_emitter, event_aliases)
        if event_aliases is None and isinstance(getattr(self, "_alias_name_cache", None), dict):
            self._alias_name_cache = aliases

    aliaser.__init__ = init_sharing
    create_methods = creator._create_methods
    methods = {}

    def create_methods_once(self, service_model):
        key = (service_model.service_name, service_model.api_version)
        if key not in methods:
            methods[key] = create_methods(self, service_model)
        return dict(methods[key])

    creator._create_methods = create_methods_once


def signature_key(func):
    """What decides whether func takes **kwargs, as inspect.getfullargspec
    reads it, in a form equal for every session's copy of a handler: the
    code object of a function or method (a closure made anew for each
    session shares its code), the function under a functools.partial, the
    class of a callable object or of a builtin method's object. Never the
    handler itself when it is bound to an object of a session, which the
    cache would keep. None if unsure (an explicit __signature__)."""
    if getattr(func, "__signature__", None) is not None:
        return None
    if isinstance(func, functools.partial):
        inner = signature_key(func.func)
        return None if inner is None else ("partial", inner)
    f = getattr(func, "__func__", func)
    if isinstance(f, types.FunctionType):
        return f.__code__
    if isinstance(f, types.BuiltinFunctionType):
        # A builtin bound to an object (a dict's update) would keep the
        # object, and a session with it, alive in the cache.
        owner = getattr(f, "__self__", None)
        if owner is None or isinstance(owner, types.ModuleType):
            return f
        return ("builtin method", type(owner), f.__name__)
    if isinstance(f, type):
        return f
    return ("instance", type(f))


def share_service_models():
    """Shares a service's model (botocore.model.ServiceModel) between
    sessions: the CLI and each client build it anew from the description
    that the shared loader read once, and each then builds again, one by
    one, the operation models and shapes it caches. Skipped if botocore has
    changed shape."""
    model = botocore.model.ServiceModel
    users = [m for m in (botocore.session, botocore.client) if getattr(m, "ServiceModel", None) is model]
    if len(users) != 2:
        return

    class SharedServiceModel(model):
        shared = {}  # (id of description, service name) -> (description, model)

        def __new__(cls, service_description, service_name=None):
            key = (id(service_description), service_name)
            hit = cls.shared.get(key)
            if hit is not None and hit[0] is service_description:
                return hit[1]
            made = super().__new__(cls)
            model.__init__(made, service_description, service_name=service_name)
            cls.shared[key] = (service_description, made)
            return made

        def __init__(self, service_description, service_name=None):
            pass  # made once, in __new__

    for m in users:
        m.ServiceModel = SharedServiceModel


def copy_handlers_faster():
    """Copies the tree of event handlers, which botocore does for every
    client, in one function instead of a copy.copy a node: the same
    structure of new dicts and lists holding the same handlers. Skipped if
    botocore has changed shape."""
    trie = getattr(botocore.hooks, "_PrefixTrie", None)
    nodes = getattr(botocore.hooks, "NodeList", None)
    if trie is None or nodes is None or not hasattr(trie, "_recursive_copy") or nodes._fields != ("first", "middle", "last"):
        return

    def recursive_copy(self, node):
        copied = {}
        for key, value in node.items():
            kind = type(value)
            if kind is nodes and all(type(part) is list for part in value):
                copied[key] = nodes(value.first[:], value.middle[:], value.last[:])
            elif isinstance(value, nodes):
                copied[key] = copy.copy(value)
            elif isinstance(value, dict):
                copied[key] = recursive_copy(self, value)
            else:
                copied[key] = value
        return copied

    trie._recursive_copy = recursive_copy


share_pure_caches()
share_service_models()
copy_handlers_faster()

# Each command makes some ten thousand objects, most of them gone when it
# ends: with Python's default thresholds the cyclic garbage collector runs
# every few hundred allocations and took a third of a command's CPU. Less
# often, it still frees each command's cycles, and what is loaded once
# (modules, the CLI's data) is left out of its rounds.
gc.freeze()
gc.set_threshold(50000, 20, 20)

# The service models, read once and shared by every command's session.
loader = None
# The CLI's own data, which importing awscli adds to AWS_DATA_PATH, as it
# does for every `aws` process.
cli_data = os.path.join(os.path.dirname(os.path.abspath(awscli.__file__)), "data")


def run(args, env, cwd):
    global loader
    os.environ.clear()
    os.environ.update(kv.split("=", 1) for kv in env if "=" in kv)
    paths = [p for p in os.environ.get("AWS_DATA_PATH", "").split(os.pathsep) if p]
    os.environ["AWS_DATA_PATH"] = os.pathsep.join(paths + [cli_data])
    os.chdir(cwd)
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="replace", write_through=True)
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            # What awscli.clidriver.create_clidriver does, with the shared loader.
            session = botocore.session.Session(EnvironmentVariables)
            if loader is None:
                loader = session.get_component("data_loader")
            else:
                session.register_component("data_loader", loader)
            _set_user_agent_for_session(session)
            load_plugins(session.full_config.get("plugins", {}),
                         event_hooks=session.get_component("event_emitter"))
            code = CLIDriver(session=session).main(args)
        except SystemExit as e:  # argparse's usage errors
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception as e:  # reported as the CLI reports its own errors
            sys.stderr.write("\n%s\n" % e)
            code = 255
    return code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace")


def main():
    answer = sys.stdout
    answer.write(json.dumps({"ready": True}) + "\n")
    answer.flush()
    for line in sys.stdin:
        req = json.loads(line)
        code, out, err = run(req["args"], req["env"], req["dir"])
        answer.write(json.dumps({"code": code, "stdout": out, "stderr": err}) + "\n")
        answer.flush()


if __name__ == "__main__":
    main()
