#!/usr/bin/env python3
"""Float32 rounding error of Winograd F(4x4, 3x3) and F(6x6, 3x3) against direct convolution in
float64, on random 64-channel tiles (inputs in [-1, 1], filters in [-0.3, 0.3]): the largest
max |y - y_ref| / (1 + |y_ref|) over 20 draws. The measure the engine's Winograd tests use; this
script backs the F(6x6) trade-off written down in Benchmarks/README.md.
Usage: python Tools/bench/winograd_error.py   (NumPy only)
"""
import numpy as np
from fractions import Fraction as Fr
rng=np.random.default_rng(0)
# F(6,3) matrices, points 0, 1, -1, 2, -2, 1/2, -1/2, inf
BT=np.array([[1,0,-21/4,0,21/4,0,-1,0],
 [0,1,1,-17/4,-17/4,1,1,0],
 [0,-1,1,17/4,-17/4,-1,1,0],
 [0,1/2,1/4,-5/2,-5/4,2,1,0],
 [0,-1/2,1/4,5/2,-5/4,-2,1,0],
 [0,2,4,-5/2,-5,1/2,1,0],
 [0,-2,4,5/2,-5,-1/2,1,0],
 [0,-1,0,21/4,0,-21/4,0,1]],dtype=np.float64)
G=np.array([[1,0,0],[-2/9,-2/9,-2/9],[-2/9,2/9,-2/9],[1/90,1/45,2/45],[1/90,-1/45,2/45],[32/45,16/45,8/45],[32/45,-16/45,8/45],[0,0,1]])
AT=np.array([[1,1,1,1,1,1,1,0],[0,1,-1,2,-2,1/2,-1/2,0],[0,1,1,4,4,1/4,1/4,0],[0,1,-1,8,-8,1/8,-1/8,0],[0,1,1,16,16,1/16,1/16,0],[0,1,-1,32,-32,1/32,-1/32,1]])
BT4=np.array([[4,0,-5,0,1,0],[0,-4,-4,1,1,0],[0,4,-4,-1,1,0],[0,-2,-1,2,1,0],[0,2,-1,-2,1,0],[0,4,0,-5,0,1]],dtype=np.float64)
G4=np.array([[1/4,0,0],[-1/6,-1/6,-1/6],[-1/6,1/6,-1/6],[1/24,1/12,1/6],[1/24,-1/12,1/6],[0,0,1]])
AT4=np.array([[1,1,1,1,1,0],[0,1,-1,2,-2,0],[0,1,1,4,4,0],[0,1,-1,8,-8,1]])
def wino(d,g,BT,G,AT,m,dt):
    # d: [C, a, a], g: [K, C, 3, 3]; returns [K, m, m]
    BT=BT.astype(dt);G=G.astype(dt);AT=AT.astype(dt)
    V=np.einsum('ij,cjk,lk->cil',BT,d.astype(dt),BT)
    U=np.einsum('ij,kcjl,ml->kcim',G,g.astype(dt),G)
    M=np.einsum('kcij,cij->kij',U,V)
    return np.einsum('ij,kjl,ml->kim',AT,M,AT)
C=K=64
for (BTm,Gm,ATm,m) in [(BT4,G4,AT4,4),(BT,G,AT,6)]:
    a=m+2
    errs=[]
    for t in range(20):
        d=rng.uniform(-1,1,(C,a,a)); g=rng.uniform(-0.3,0.3,(K,C,3,3))
        ref=np.zeros((K,m,m))
        for i in range(m):
            for j in range(m):
                ref[:,i,j]=np.einsum('kcxy,cxy->k',g,d[:,i:i+3,j:j+3])
        y=wino(d,g,BTm,Gm,ATm,m,np.float32)
        errs.append(np.max(np.abs(y-ref)/(1+np.abs(ref))))
    print('F(%d,3) max err'%m, max(errs))
