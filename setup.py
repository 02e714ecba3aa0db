"""Build of the classifier's two compiled modules, its word scanner and its scoring; everything
else is in pyproject.toml. Both are optional: where no C compiler is at hand the install goes on
and the classifier runs its pure-Python twins, which give the same answers, slower."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pipeline.core._wordscan",
            ["pipeline/core/_wordscan.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
        Extension(
            "pipeline.core._scoring",
            ["pipeline/core/_scoring.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
    ]
)
