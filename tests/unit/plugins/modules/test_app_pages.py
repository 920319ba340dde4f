"""Unit tests of app_pages (plugins/modules/app_pages.py and its probe, module_utils/_url_probe.py).

The probe runs as on a host, with `<venv>/bin/python -c`, on a project whose URLconf has the shapes real ones have:
the admin, routes and regexes with and without parameters, an include() with a namespace, and names unlike the
guide's. The pages are asked from a real HTTP server that answers each path with its own status.
"""
from __future__ import annotations

import pytest

from ansible_collections.mall.cache_migration.plugins.modules import app_pages

SETTINGS = '''\
SECRET_KEY = 'unit'
ROOT_URLCONF = 'shop.urls'
DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}
INSTALLED_APPS = ['django.contrib.admin', 'django.contrib.auth', 'django.contrib.contenttypes',
                  'django.contrib.sessions', 'django.contrib.messages']
'''

URLS = '''\
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path, re_path

def view(request, **kwargs):
    return HttpResponse('')

catalogue = ([path('', view, name='index'), path('<slug:slug>/', view, name='item'),
              re_path(r'^offers/(?P<year>[0-9]{4})/$', view), re_path(r'^search/$', view, name='search')], 'catalogue')

urlpatterns = [
    path('admin/', admin.site.urls),
    path('healthz', view, name='health'),
    path('shop/', include(catalogue)),
    path('orders/<int:pk>/', view),
    re_path(r'^legacy/feed\\.xml$', view),
    re_path(r'^legacy/(\\d+)$', view),
    path('healthz', view, name='health-again'),
]
'''


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('project')
    (root / 'shop').mkdir()
    (root / 'shop' / '__init__.py').write_text('')
    (root / 'shop' / 'settings.py').write_text(SETTINGS)
    (root / 'shop' / 'urls.py').write_text(URLS)
    return root


@pytest.fixture
def ask(run_module, django_venv, project, server):
    statuses, base_url = server

    def run(answers, **options):
        statuses.clear()
        statuses.update(answers)
        return run_module(app_pages.main, dict({'project_dir': str(project), 'venv': str(django_venv),
                                                'settings': 'shop.settings', 'base_url': base_url}, **options),
                          check_mode=True)
    return run


def test_the_projects_own_pages_without_parameters_are_asked_admin_login_first_the_admins_others_last(ask):
    result = ask({'/admin/login/': 200, '/healthz': 200, '/shop/': 500, '/admin/': 302})
    assert (result['changed'], result['listed']) == (False, True), result
    assert [(page['path'], page['status']) for page in result['pages']] == [
        ('/admin/login/', 200), ('/healthz', 200), ('/shop/', 500), ('/shop/search/', 404), ('/legacy/feed.xml', 404),
        ('/admin/', 302), ('/admin/logout/', 404), ('/admin/password_change/', 404)]
    # The admin's own pages too (its model lists and forms, which want a login).
    assert result['found'] == 15


def test_at_most_max_pages_are_asked(ask):
    result = ask({}, max_pages=2)
    assert [page['path'] for page in result['pages']] == ['/admin/login/', '/healthz'] and result['found'] == 15


def test_named_pages_are_asked_instead_each_with_its_expected_status(ask):
    result = ask({'/api/users/': 401}, pages=['/api/users/', {'path': '/gone/', 'expected_status': 410}])
    assert result['listed'] is False and result['found'] is None
    assert result['pages'] == [{'path': '/api/users/', 'status': 401, 'error': None, 'expected_status': None},
                               {'path': '/gone/', 'status': 404, 'error': None, 'expected_status': 410}]


def test_the_pages_an_earlier_call_returned_are_asked_again_as_they_are_now(ask):
    before = ask({'/admin/login/': 500}, pages=['/admin/login/', {'path': '/api/', 'expected_status': 401}])['pages']
    assert ask({'/admin/login/': 200, '/api/': 401}, pages=before)['pages'] == [
        {'path': '/admin/login/', 'status': 200, 'error': None, 'expected_status': None},
        {'path': '/api/', 'status': 401, 'error': None, 'expected_status': 401}]


@pytest.mark.parametrize('entry', [{'url': '/'}, {'path': 3}, {'path': '/', 'expected_status': '200x'}, 3])
def test_a_page_that_is_not_a_path_or_a_page_fails_naming_it(run_module, entry):
    result = run_module(app_pages.main, {'project_dir': '/nonexistent', 'settings': 'shop.settings',
                                         'base_url': 'http://127.0.0.1:9', 'pages': [entry]})
    assert result['failed'] is True and repr(entry) in result['msg'], result


def test_a_page_that_does_not_answer_has_no_status_and_says_why(run_module, django_venv, project):
    result = run_module(app_pages.main, {'project_dir': str(project), 'venv': str(django_venv), 'settings': 'shop.settings',
                                         'base_url': 'http://127.0.0.1:9', 'pages': ['/'], 'timeout': 5})
    assert result['pages'][0]['status'] is None and 'refused' in result['pages'][0]['error'].lower(), result


def test_a_project_whose_urlconf_does_not_load_fails_naming_the_error(run_module, django_venv, project):
    result = run_module(app_pages.main, {'project_dir': str(project), 'venv': str(django_venv), 'settings': 'shop.nothing',
                                         'base_url': 'http://127.0.0.1:9'})
    assert result['failed'] is True and "No module named 'shop.nothing'" in result['msg'], result
