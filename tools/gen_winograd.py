"""Generates csrc/conv/winograd_xforms.inc: the Winograd F(m x m, r x r) transform matrices
(Cook-Toom construction, exact rationals) and straight-line 1-D transforms for them.

    python tools/gen_winograd.py > csrc/conv/winograd_xforms.inc

For correlation y = A^T [(G g) . (B^T d)]: with interpolation points a_i (plus infinity),
A[i][k] = a_i^k and G[i][j] = a_i^j / prod_{l != i}(a_i - a_l) evaluate h and g, and B^T's
row i holds the coefficients of prod_{l != i}(x - a_l) (the last row those of prod_l(x - a_l)),
i.e. B = C, the interpolation matrix of the linear-convolution algorithm, transposed.
"""

from fractions import Fraction as Fr

VARIANTS = [  # (m, r, finite points)
    (2, 3, [0, 1, -1]),
    (4, 3, [0, 1, -1, 2, -2]),
    (2, 5, [0, 1, -1, 2, -2]),
    (4, 5, [0, 1, -1, 2, -2, Fr(1, 2), Fr(-1, 2)]),
]


def polymul(a, b):
    out = [Fr(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def matrices(m, r, pts):
    n = m + r - 1
    pts = [Fr(p) for p in pts]
    assert len(pts) == n - 1
    a = [[p ** k for k in range(m)] for p in pts] + [[Fr(0)] * (m - 1) + [Fr(1)]]
    g = []
    for i, p in enumerate(pts):
        f = Fr(1)
        for l, q in enumerate(pts):
            if l != i:
                f *= p - q
        g.append([p ** j / f for j in range(r)])
    g.append([Fr(0)] * (r - 1) + [Fr(1)])
    bt = []
    for i in range(n):
        poly = [Fr(1)]
        for l, q in enumerate(pts):
            if l != i:
                poly = polymul(poly, [-q, Fr(1)])
        bt.append(poly + [Fr(0)] * (n - len(poly)))
    at = [[a[i][k] for i in range(n)] for k in range(m)]
    return at, g, bt


def lit(x):
    return repr(float(x)) + "f"


def vexpr(row, names, consts):
    """Vec<float> expression for sum_j row[j] * names[j]; constants go into `consts`."""
    terms = [(c, v) for c, v in zip(row, names) if c != 0]
    if not terms:
        return "V::zero()"
    # Start from a +1 term when there is one (no negation needed).
    terms.sort(key=lambda t: 0 if t[0] == 1 else 1)

    def k(c):
        name = "k" + lit(c).replace("-", "m").replace(".", "_").replace("f", "")
        consts[name] = c
        return name

    c, v = terms[0]
    acc = v if c == 1 else f"V::mul({k(c)}, {v})"
    for c, v in terms[1:]:
        if c == 1:
            acc = f"V::add({acc}, {v})"
        elif c == -1:
            acc = f"V::sub({acc}, {v})"
        else:
            acc = f"V::fmadd({k(c)}, {v}, {acc})"
    return acc


def row_pairs(mat):
    """Pairs of rows (i, i2, s) with mat[i2][j] = s * (-1)^j * mat[i][j]: the rows of points
    +p and -p. Each pair shares its even and odd partial sums."""
    used, pairs = set(), []
    for i in range(len(mat)):
        if i in used:
            continue
        for i2 in range(i + 1, len(mat)):
            if i2 in used or not any(mat[i]):
                continue
            for sgn in (1, -1):
                if all(mat[i2][j] == sgn * (-1) ** j * mat[i][j] for j in range(len(mat[i]))):
                    if any(mat[i][j] for j in range(1, len(mat[i]), 2)):
                        pairs.append((i, i2, sgn))
                        used.update((i, i2))
                    break
            if i in used:
                break
    return pairs


def col_pairs(mat):
    """Pairs of columns (j, j2, s) with mat[k][j2] = s * (-1)^k * mat[k][j]."""
    t = [[mat[k][j] for k in range(len(mat))] for j in range(len(mat[0]))]
    return row_pairs(t)


def xform(name, mat):
    """out_i = sum_j mat[i][j] * in_j over L lanes; in/out strided between the j / i. All
    inputs are loaded before any output is stored."""
    nin, nout = len(mat[0]), len(mat)
    consts = {}
    body = []
    # Inputs paired by column symmetry become sums and differences first.
    names = [f"x{j}" for j in range(nin)]
    cols = col_pairs(mat)
    m2 = [list(r) for r in mat]
    names2 = list(names)
    for j, j2, sgn in cols:
        op = "add" if sgn == 1 else "sub"
        body.append(f"      const reg p{j} = V::{op}(x{j}, x{j2});")
        body.append(f"      const reg q{j} = V::{'sub' if sgn == 1 else 'add'}(x{j}, x{j2});")
        for k in range(nout):
            c = mat[k][j]
            m2[k][j] = c if k % 2 == 0 else 0
            m2[k][j2] = c if k % 2 == 1 else 0
        names2[j], names2[j2] = f"p{j}", f"q{j}"
    done = set()
    for i, i2, sgn in row_pairs(m2):
        even = [c if j % 2 == 0 else 0 for j, c in enumerate(m2[i])]
        odd = [c if j % 2 == 1 else 0 for j, c in enumerate(m2[i])]
        body.append(f"      const reg e{i} = {vexpr(even, names2, consts)};")
        body.append(f"      const reg o{i} = {vexpr(odd, names2, consts)};")
        body.append(f"      V::store(out + {i} * os + l, V::add(e{i}, o{i}));")
        diff = f"V::sub(e{i}, o{i})" if sgn == 1 else f"V::sub(o{i}, e{i})"
        body.append(f"      V::store(out + {i2} * os + l, {diff});")
        done.update((i, i2))
    for i in range(nout):
        if i not in done:
            body.append(f"      V::store(out + {i} * os + l, {vexpr(m2[i], names2, consts)});")
    lines = [f"  template <int L>",
             f"  static inline void {name}(const float* in, int64_t is, float* out, int64_t os) {{",
             "    using V = Vec<float>;",
             "    using reg = V::reg;"]
    for cname, c in sorted(consts.items()):
        lines.append(f"    const reg {cname} = V::set1({lit(c)});")
    lines += ["    for (int l = 0; l < L; l += V::W) {"]
    for j in range(nin):
        lines.append(f"      const reg x{j} = V::load(in + {j} * is + l);")
    lines += body
    lines += ["    }", "  }"]
    return lines


def main():
    out = ["// Generated by tools/gen_winograd.py: do not edit.",
           "// Included inside namespace headwater::<isa> (winograd_impl.h) and headwater",
           "// (winograd.cpp, with HW_WINOGRAD_TABLES_ONLY for the matrices alone).", ""]
    out += ["#ifndef HW_WINOGRAD_TABLES_ONLY",
            "template <int M, int R>", "struct Xf;", ""]
    for m, r, pts in VARIANTS:
        at, g, bt = matrices(m, r, pts)
        n = m + r - 1
        a = [[at[k][i] for k in range(m)] for i in range(n)]
        out.append(f"// F({m}x{m}, {r}x{r}), points {', '.join(str(p) for p in pts)}, inf.")
        out.append("template <>")
        out.append(f"struct Xf<{m}, {r}> {{")
        out += ["  // B^T: input tile -> transformed (n -> n)"] + xform("bt", bt)
        out += ["  // A^T: product -> output tile (n -> m)"] + xform("at", at)
        out += ["  // A: output gradient tile -> transformed (m -> n), for the filter gradient"]
        out += xform("a", a)
        out += ["};", ""]
    out += ["#else", ""]
    for m, r, pts in VARIANTS:
        at, g, bt = matrices(m, r, pts)
        n = m + r - 1
        out.append(f"// G of F({m}x{m}, {r}x{r}): {n} x {r}")
        out.append(f"constexpr double kWinoG_{m}_{r}[{n}][{r}] = {{")
        for row in g:
            out.append("    {" + ", ".join(f"{float(x)!r}" if x.denominator in (1, 2, 4, 8, 16, 32, 64) else f"{x.numerator}.0 / {x.denominator}.0" for x in row) + "},")
        out.append("};")
    out += ["", "#endif"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
