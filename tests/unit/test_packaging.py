import io
import zipfile

from aggregator.deploy.package import package_code


def test_package_is_reproducible_and_holds_only_function_code():
    first, second = package_code(), package_code()
    assert first.data == second.data and first.sha256 == second.sha256
    names = zipfile.ZipFile(io.BytesIO(first.data)).namelist()
    assert "aggregator/handlers/ingest.py" in names
    assert not [n for n in names if n.startswith(("aggregator/cli/", "aggregator/local/"))]


def test_package_leaves_out_what_pip_wrote_about_the_installation():
    """Two venvs of the same pins must give the same zip: no RECORD, REQUESTED, INSTALLER."""
    names = zipfile.ZipFile(io.BytesIO(package_code().data)).namelist()
    metadata = [n for n in names if ".dist-info/" in n]
    assert "aws_lambda_powertools-" in " ".join(metadata) and any(n.endswith("/METADATA") for n in metadata)
    assert not [n for n in metadata if n.rsplit("/", 1)[1] in ("RECORD", "REQUESTED", "INSTALLER", "direct_url.json")]
