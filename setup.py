"""Build of the one compiled module (the classifier's word scanner); everything else is in
pyproject.toml. The module is optional: where no C compiler is at hand the install goes on and
pipeline.core.wordscan uses its pure-Python scanner, which gives the same answers, slower."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pipeline.core._wordscan",
            ["pipeline/core/_wordscan.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
