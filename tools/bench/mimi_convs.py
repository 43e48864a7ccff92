"""How close Mimi's SEANet encoder convolutions already run to the CPU's f32 peak (issue 5's 3× target).

    tools/.venv/bin/python tools/bench/mimi_convs.py

Times every encoder convolution of the default MimiConfig on a 10 s clip at one thread, as oneDNN runs it
(torch conv1d, what transformers and csm-swift both call) and as an im2col GEMM on a time-major layout
(the alternative formulation), with GFLOP/s for each.
"""
import torch, time
torch.set_num_threads(1)
T=240000
layers=[  # cin, cout, k, stride, T_in
 (1,64,7,1,T),(64,32,3,1,T),(32,64,1,1,T),(64,128,8,4,T),
 (128,64,3,1,T//4),(64,128,1,1,T//4),(128,256,10,5,T//4),
 (256,128,3,1,T//20),(128,256,1,1,T//20),(256,512,12,6,T//20),
 (512,256,3,1,T//120),(256,512,1,1,T//120),(512,1024,16,8,T//120),
 (1024,512,3,1,T//960)]
def bench(f, n=3):
    f(); t=time.perf_counter()
    for _ in range(n): f()
    return (time.perf_counter()-t)/n
tot_a=tot_b=0
for cin,cout,k,s,t in layers:
    x=torch.randn(1,cin,t); w=torch.randn(cout,cin,k)
    a=bench(lambda: torch.nn.functional.conv1d(x,w,stride=s))
    # GEMM on time-major: unfold -> (T_out, cin*k) @ (cin*k, cout)
    xt=x[0].t().contiguous()  # (t, cin)
    W=w.permute(2,1,0).reshape(k*cin,cout).contiguous()
    def g():
        u=xt.unfold(0,k,s)  # (T_out, cin, k)
        u=u.transpose(1,2).reshape(u.shape[0],k*cin)
        return u@W
    b=bench(g)
    flops=2*cin*cout*k*((t-k)//s+1)
    tot_a+=a; tot_b+=b
    print(f"{cin:5d}->{cout:5d} k{k:2d} s{s} T{t:7d}: conv {a*1e3:7.1f} ms {flops/a/1e9:6.1f} GF/s | gemm {b*1e3:7.1f} ms {flops/b/1e9:6.1f} GF/s")
print("total conv %.1f ms gemm %.1f ms"%(tot_a*1e3,tot_b*1e3))
