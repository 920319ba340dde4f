# Copyright (c) 2026, mall.cache_migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The app's extra environment, split so that only its secrets are masked.

PRIVATE: the leading underscore marks this file as internal to the
mall.cache_migration collection. Its API may change in any release;
other collections must not import it.

Ansible replaces every occurrence of a no_log value in a module's whole result. An
environment passed as one no_log option therefore masks the data the roles decide on
when a value is a common word (MYSQL_DATABASE=database masks the cache kind
"database"). So a module takes two options: ``environment``, shown, and
``secret_environment``, no_log; the filter mall.cache_migration.app_environment splits an
environment by the names and values below. A module still masks the values of
``environment`` that look secret, for a caller that did not split it.
"""

from __future__ import annotations

import re

# Words of a variable name (split at _ and -) that mark its value as secret; KEY only as the
# last word (SECRET_KEY, API_KEY, but not KEY_PREFIX).
SECRET_WORDS = frozenset(('PASSWORD', 'PASSWD', 'PASS', 'PWD', 'PW', 'SECRET', 'TOKEN', 'CREDENTIALS',
                          'PASSPHRASE', 'APIKEY', 'PRIVATE'))
# A URL with a password: scheme://user:password@ (REDIS_URL=redis://:pw@redis:6379/0).
CREDENTIAL_URL = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]*:(?P<password>[^/@\s]+)@')


def is_secret(name, value, secret_names=()):
    """Whether an environment variable's value must be kept out of output."""
    words = [word for word in re.split(r'[_\-.]+', str(name).upper()) if word]
    return (str(name) in secret_names or bool(SECRET_WORDS.intersection(words))
            or bool(words and words[-1] == 'KEY') or bool(CREDENTIAL_URL.match(str(value))))


def split_environment(environment, secret_names=()):
    """(plain, secret): the variables whose values may be shown, and those that must not be."""
    plain, secret = {}, {}
    for name, value in environment.items():
        (secret if is_secret(name, value, secret_names) else plain)[name] = value
    return plain, secret


def secret_values(environment):
    """The strings to mask for an environment of secrets: each value, and a URL's password on its own."""
    values = set()
    for value in environment.values():
        values.add(str(value))
        url = CREDENTIAL_URL.match(str(value))
        if url:
            values.add(url.group('password'))
    return {value for value in values if value}


def app_environment_argument_spec():
    """The options of every module that runs something with the app's environment."""
    return dict(
        environment=dict(type='dict', default={}),
        secret_environment=dict(type='dict', default={}, no_log=True),
    )


def mask_secret_environment(module):
    """Mask in the module's result the values of environment that look secret (from a caller that did
    not split them) and the passwords of URLs; call it right after making the module."""
    dummy, secret = split_environment(module.params['environment'])
    module.no_log_values.update(secret_values(secret))
    module.no_log_values.update(secret_values(module.params['secret_environment']))


def app_environment(module):
    """The environment and secret_environment options as one dict of strings."""
    params = module.params
    return {str(name): str(value) for name, value in list(params['environment'].items()) + list(params['secret_environment'].items())}
