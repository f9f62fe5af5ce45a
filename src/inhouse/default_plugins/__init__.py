"""inhouse's own plugins: the built-ins, registered through the same hooks a package uses.

One module per area, each implementing one hook of :mod:`inhouse.hookspecs`. They are registered
before any installed plugin (see :data:`inhouse.plugins.DEFAULT_PLUGINS`), so built-ins come
first wherever order matters, and a plugin can add to them but never replace one: a name
registered twice is refused. Each module imports nothing costly at the top; what it hands over
is imported when the registry that needs it is first used.
"""
