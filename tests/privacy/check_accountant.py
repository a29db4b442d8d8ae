"""`ganleaks privacy` against Opacus's RDP accountant (PyPI `opacus`) on a grid of (sigma, q, steps, delta):
epsilon and its order agree to 1e-6 relative, and --target-epsilon round-trips.
usage: check_accountant.py GANLEAKS_BINARY"""
import itertools
import subprocess
import sys
import warnings

from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

warnings.filterwarnings("ignore", message="Optimal order is the")  # Opacus's hint at the order range's edges
binary = sys.argv[1]
ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


def ganleaks(*args):
    out = subprocess.run([binary, "privacy", *map(str, args)], check=True, capture_output=True, text=True).stdout
    return dict(line.split(" = ") for line in out.strip().splitlines())


checked = 0
for sigma, q, steps, delta in itertools.chain(
        itertools.product([0.5, 1.0, 2.5], [0.001, 0.01, 0.1], [1, 100, 10000], [1e-5]),
        itertools.product([0.8], [0.004], [3000], [1e-3, 1e-7, 1e-10])):
    ours = ganleaks("--noise-multiplier", sigma, "--sample-rate", q, "--steps", steps, "--delta", delta)
    eps, order = get_privacy_spent(orders=ORDERS, rdp=compute_rdp(q=q, noise_multiplier=sigma, steps=steps,
                                                                  orders=ORDERS), delta=delta)
    got = float(ours["epsilon"])
    assert abs(got - eps) <= 1e-6 * abs(eps), f"sigma {sigma} q {q} steps {steps} delta {delta}: {got} vs opacus {eps}"
    assert float(ours["order"]) == order, f"order {ours['order']} vs opacus {order}"
    checked += 1
    if steps == 100 and delta == 1e-5:  # the inverse: sigma for this epsilon is sigma again
        back = float(ganleaks("--target-epsilon", repr(got), "--sample-rate", q, "--steps", steps, "--delta", delta)
                     ["noise_multiplier"])
        assert abs(back - sigma) <= 1e-6 * sigma, f"inverse of {got}: {back}, expected {sigma}"
print(f"accountant: {checked} cases agree with opacus")
