"""Pages judged by what they answered before the change (the page_verdicts filter): only a page that got worse fails."""
import pytest

from ansible_collections.mall.cache_migration.plugins.filter.page_verdicts import page_verdicts


def page(status, path='/p/', expected=None, error=None):
    return {'path': path, 'status': status, 'expected_status': expected, 'error': error}


@pytest.mark.parametrize('before, after, verdict', [
    # Worse: a page that answered stops answering, anything below 500 becomes 5xx, a 2xx becomes 4xx.
    (200, None, 'worse'), (500, None, 'worse'), (200, 500, 'worse'), (302, 502, 'worse'), (401, 500, 'worse'),
    (200, 401, 'worse'), (204, 404, 'worse'),
    # Fixed: a page that failed or did not answer now answers below 500.
    (500, 200, 'fixed'), (500, 401, 'fixed'), (None, 302, 'fixed'), (503, 404, 'fixed'),
    # The same: as it was, failures included, and changes the guide does not count as worse.
    (200, 200, 'same'), (401, 401, 'same'), (404, 404, 'same'), (500, 500, 'same'), (None, None, 'same'),
    (500, 503, 'same'), (302, 200, 'same'), (200, 302, 'same'), (401, 200, 'same'), (302, 404, 'same'),
])
def test_a_page_is_judged_by_what_it_answered_before(before, after, verdict):
    result = page_verdicts([page(after, error=None if after else 'Connection refused')], [page(before)])
    assert [(v['path'], v['before'], v['after'], v['verdict']) for v in result] == [('/p/', before, after, verdict)]


@pytest.mark.parametrize('after, verdict', [(200, 'same'), (401, 'same'), (302, 'same'), (500, 'worse'), (None, 'worse')])
def test_without_a_record_of_before_only_a_failure_or_no_answer_is_worse(after, verdict):
    assert page_verdicts([page(after)], [page(200, path='/other/')])[0]['verdict'] == verdict


@pytest.mark.parametrize('before, after, verdict', [(200, 401, 'same'), (500, 401, 'same'), (401, 200, 'worse'), (401, 500, 'worse')])
def test_an_expected_status_is_what_the_page_must_answer(before, after, verdict):
    assert page_verdicts([page(after, expected=401)], [page(before, expected=401)])[0]['verdict'] == verdict


def test_each_page_keeps_its_order_and_its_reason_names_both_statuses():
    result = page_verdicts([page(200, '/b/'), page(None, '/a/', error='Connection refused')], [page(500, '/a/'), page(500, '/b/')])
    assert [(v['path'], v['verdict']) for v in result] == [('/b/', 'fixed'), ('/a/', 'worse')]
    assert result[1]['summary'] == '/a/ worse (500 before, no answer (Connection refused) now)'
