"""django_settings installs django-mysql for its proof with the venv's pip: the index URL, which may hold
credentials, reaches pip through its environment, never its command line, and is no_log."""
from __future__ import annotations

from ansible_collections.mall.cache_migration.plugins.modules import django_settings

INDEX_URL = 'https://deploy:s3cret@pypi.example/simple'


class RecordingModule:
    """Records each command with the environment it gets; the venv cannot import django_mysql."""

    def __init__(self, params):
        self.params = params
        self.commands = []

    def run_command(self, argv, environ_update=None, **kwargs):
        self.commands.append((argv, environ_update or {}))
        return (1, '', 'ModuleNotFoundError') if argv[-1] == 'import django_mysql' else (0, '', '')


def test_the_proofs_pip_gets_the_index_url_in_its_environment():
    module = RecordingModule(dict(proof_requirement='django-mysql==4.19.0', pip_find_links=['/wheelhouse'],
                                  pip_no_index=False, pip_index_url=INDEX_URL))
    assert django_settings.install_for_proof(module, '/venv/bin/python', '/tmp/copy') is None
    argv, environ = module.commands[-1]
    assert argv[-1] == 'django-mysql==4.19.0'
    assert not [arg for arg in argv if 's3cret' in arg]
    assert environ == {'PIP_INDEX_URL': INDEX_URL}


def test_the_index_url_option_is_no_log():
    assert django_settings.argument_spec()['pip_index_url']['no_log'] is True
