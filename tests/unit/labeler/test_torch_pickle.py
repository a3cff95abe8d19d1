"""The torch-free checkpoint reader refuses anything but tensors."""

import os
import pickle
import zipfile

import pytest

from autotagger.models.torch_pickle import load_state_dict


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_given_checkpoint_that_would_run_code_when_loaded_then_refused(tmp_path):
    path = tmp_path / "evil.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"weight": RunsCode()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        load_state_dict(path)


def test_given_file_that_is_not_a_checkpoint_when_loaded_then_error(tmp_path):
    path = tmp_path / "not.pth"
    path.write_bytes(pickle.dumps("hello", protocol=2))
    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        load_state_dict(path)
