# Copyright (c) mmieee contributors.
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmieee module so that it lands in the registries.

    Building from a config with ``default_scope='mmieee'`` does not need this
    (the registries import their ``locations``); scripts that build modules
    by name without a config scope do.

    Args:
        init_default_scope (bool): Also make ``'mmieee'`` the current default
            scope. Defaults to True.
    """
    import mmieee.datasets  # noqa: F401,F403
    import mmieee.engine  # noqa: F401,F403
    import mmieee.evaluation  # noqa: F401,F403
    import mmieee.models  # noqa: F401,F403

    if not init_default_scope:
        return
    never_created = DefaultScope.get_current_instance() is None \
        or not DefaultScope.check_instance_created('mmieee')
    if never_created:
        DefaultScope.get_instance('mmieee', scope_name='mmieee')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmieee':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "mmieee", '
                      '`register_all_modules` will force the current '
                      'default scope to be "mmieee".')
        new_instance_name = f'mmieee-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmieee')
