"""The end-to-end tests' one rule."""

def e2e_test(name, size = "large", data = [], deps = [], alone = True, manual = False):
    """A test in <name>.cc that drives prochook against real runtimes.

    It needs root and the host's cgroups, mounts and runtimes: "external"
    (never served from Bazel's cache: its result depends on the host), and
    unless alone = False, "exclusive" and "local" (outside the sandbox, one
    at a time). manual: only run when named (the VM lane's cgroup2_test).
    """
    tags = ([] if manual else ["external"]) + (["exclusive", "local"] if alone else []) + (["manual"] if manual else [])
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cc"],
        data = ["//:prochook"] + data,
        tags = tags,
        deps = [":harness", "//tests:doctest_main"] + deps,
    )
