"""Every tensor a job makes lives on the rank's device, and values come back through dist::to_host (dist/device.h).
LibTorch's factories (zeros, ones, full, empty, arange, eye, linspace, tensor, rand*, normal, from_blob) make CPU
tensors unless told otherwise, and `.cpu()` / `.to(kCPU)` bring a tensor back. So in src/ every factory call must
say where its tensor goes (TensorOptions or a device among its arguments, or a `.to(<device>)` later in the same
statement) or why it stays on the host, and every copy to the host must carry a `// host:` comment saying why it lives on the CPU, on its line
or heading its paragraph (the lines back to a blank one). Parameters and buffers registered in a module's constructor are exempt: modules are built on
the CPU and moved whole (models::Networks::to).
This is the wrong-device check a GPU-less CI can make (tests/dist/test_devices.cpp says why it cannot run jobs on
another device); bench/device-check runs them on a GPU.
usage: check_device_factories.py SRC_DIR   exit 1 listing the calls that say nothing"""
import pathlib
import re
import sys

FACTORY = re.compile(r"\b(?:torch|at)::(zeros|ones|full|empty|arange|eye|linspace|tensor|rand|randn|randint|randperm|"
                     r"normal|from_blob)\s*\(")
TO_HOST = re.compile(r"\.cpu\(\)|\.to\((?:torch|at)::kCPU")
SAYS_WHERE = re.compile(r"options|[dD]evice|on_device|\breal\b|\bflags\b")
MOVED = re.compile(r"\.to\([^;]*[dD]evice")
EXEMPT = ("src/dist/device.cpp",)  # where to_host itself lives


def call_end(text, start):
    """The index after the call whose '(' is at `start`."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    return len(text)


def main():
    problems = []
    for path in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
        if path.suffix not in (".cpp", ".h") or str(path).endswith(EXEMPT):
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()

        def annotated(line):  # a `// host:` comment on the line or heading its paragraph (back to a blank line)
            while line >= 0 and lines[line].strip():
                if "// host:" in lines[line]:
                    return True
                line -= 1
            return False

        for match in FACTORY.finditer(text):
            end = call_end(text, match.end() - 1)
            statement = text[end:text.find(";", end)]
            line = text.count("\n", 0, match.start())
            if (SAYS_WHERE.search(text[match.end():end]) or MOVED.search(statement) or annotated(line) or
                    re.search(r"register_(parameter|buffer)", lines[line])):
                continue
            problems.append(f"{path}:{line + 1}: {lines[line].strip()}")
        for match in TO_HOST.finditer(text):
            line = text.count("\n", 0, match.start())
            if not annotated(line):
                problems.append(f"{path}:{line + 1}: {lines[line].strip()}")
    if problems:
        print("tensors made on the CPU or brought back to it without saying why (a device, or a `// host:` comment):\n  "
              + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
