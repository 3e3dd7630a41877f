#!/usr/bin/env python3
"""Load supervisor's plugins with importlib, not pkg_resources.

Debian 12's supervisor 4.2.5 imports pkg_resources (setuptools) at start only
to resolve "module:attr" specs (the rpcinterface factory); without it a
running supervisord holds ~14 MiB instead of ~20.6, on every node. Supervisor 4.3.0
dropped pkg_resources too (it uses importlib.metadata, itself ~5 MiB more);
a spec is a module path and attribute names, so importlib.import_module and
getattr resolve it. This applies that one change to the installed
options.py. It refuses loudly if the file uses pkg_resources otherwise than
expected, and does nothing when already applied or when pkg_resources is
not used at all (a newer supervisor).
"""
import py_compile
import sys

import supervisor.options as target

PATH = target.__file__
OLD_IMPORT = "import pkg_resources\n"
NEW_IMPORT = "import importlib  # drills: specs resolved without pkg_resources\n"
OLD_BODY = '''        ep = pkg_resources.EntryPoint.parse("x=" + spec)
        if hasattr(ep, 'resolve'):
            # this is available on setuptools >= 10.2
            return ep.resolve()
        else:
            # this causes a DeprecationWarning on setuptools >= 11.3
            return ep.load(False)
'''
NEW_BODY = '''        module, _, attrs = spec.partition(":")
        found = importlib.import_module(module)
        for attr in filter(None, attrs.split(".")):
            found = getattr(found, attr)
        return found
'''

with open(PATH, encoding="utf-8") as f:
    text = f.read()
if NEW_IMPORT in text and NEW_BODY in text:
    print(f"supervisor-importlib: {PATH} already uses importlib")
    sys.exit(0)
if "pkg_resources" not in text:
    # A newer supervisor (4.3.0 and later) no longer uses it: nothing to do.
    print(f"supervisor-importlib: {PATH} does not use pkg_resources; left as it is")
    sys.exit(0)
if text.count(OLD_IMPORT) != 1 or text.count(OLD_BODY) != 1:
    sys.exit(f"supervisor-importlib: {PATH} is not supervisor 4.2.x's options.py as expected; not changed")
text = text.replace(OLD_IMPORT, NEW_IMPORT).replace(OLD_BODY, NEW_BODY)
with open(PATH, "w", encoding="utf-8") as f:
    f.write(text)
py_compile.compile(PATH, doraise=True)
# The plugin the config names must still load the new way.
import importlib
import supervisor.rpcinterface

importlib.reload(target)
assert target.Options().import_spec("supervisor.rpcinterface:make_main_rpcinterface") is supervisor.rpcinterface.make_main_rpcinterface
print(f"supervisor-importlib: {PATH} now loads plugins with importlib")
