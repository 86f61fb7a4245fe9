import io
import zipfile

from aggregator.deploy.package import package_code


def test_package_is_reproducible_and_holds_only_function_code():
    first, second = package_code(), package_code()
    assert first.data == second.data and first.sha256 == second.sha256
    names = zipfile.ZipFile(io.BytesIO(first.data)).namelist()
    assert "aggregator/handlers/ingest.py" in names
    assert not [n for n in names if n.startswith(("aggregator/cli/", "aggregator/local/"))]
