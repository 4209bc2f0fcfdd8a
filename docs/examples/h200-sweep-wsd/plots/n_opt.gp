set terminal svg size 760,480 dynamic enhanced font 'Helvetica,12' background '#ffffff'
set border lw 1 lc '#444444'
set grid lc '#dddddd' lw 1
set key outside right top box lc '#bbbbbb'
set format x '10^{%L}'
set output 'n_opt.svg'
set logscale xy
set format y '10^{%L}'
set xlabel 'compute C (FLOPs)'
set ylabel 'non-embedding parameters N'
set title 'Compute-optimal model size N_{opt} against C'
set style fill transparent solid 0.18 noborder
plot 'n_opt.dat' index 2 using 1:2:3 with filledcurves lc rgb '#0072B2' title 'bootstrap interval', \
  'n_opt.dat' index 4 using 1:2 with points pt 6 ps 0.6 lc rgb '#999999' title 'runs', \
  'n_opt.dat' index 1 using 1:2 with lines lw 2 dt 2 lc rgb '#D55E00' title 'IsoFLOP power law C^{0.896}', \
  'n_opt.dat' index 0 using 1:2 with points pt 7 ps 1.2 lc rgb '#D55E00' title 'IsoFLOP minima', \
  'n_opt.dat' index 1 using 1:3 with lines lw 2 lc rgb '#0072B2' title 'parametric law C^{0.765}', \
  'n_opt.dat' index 3 using 1:2 with points pt 5 ps 1.4 lc rgb '#000000' title 'target'
