import re, subprocess, sys
def funcs(path):
    out = subprocess.run(['cuobjdump', '-sass', path], capture_output=True, text=True).stdout
    d = {}; cur = None
    for line in out.splitlines():
        m = re.match(r'\s*Function : (\S+)', line)
        if m: cur = m.group(1); d[cur] = []; continue
        if cur: d[cur].append(re.sub(r'/\*[0-9a-f]{4,}\*/', '', line).strip())
    return d
a, b = funcs(sys.argv[1]), funcs(sys.argv[2])
da = {k: v for k, v in a.items() if 'decode_kernel' in k}
same = sum(da[k] == b.get(k) for k in da)
print(f"decode kernels: {len(da)} in base, {sum('decode_kernel' in k for k in b)} in new, {same} with identical SASS")
print(f"merge kernels: {sum('combine' in k for k in a)} in base, {sum('combine' in k for k in b)} in new")
