set terminal svg size 760,480 dynamic enhanced font 'Helvetica,12' background '#ffffff'
set border lw 1 lc '#444444'
set grid lc '#dddddd' lw 1
set key outside right top box lc '#bbbbbb'
set format x '10^{%L}'
set output 'residuals.svg'
set logscale x
set xlabel 'compute C (FLOPs)'
set ylabel '(predicted − actual) / actual  [%]'
set title 'Fit residuals'
set arrow from graph 0, first 0 to graph 1, first 0 nohead lc rgb '#888888'
plot 'residuals.dat' index 0 using 1:2 with points pt 7 ps 0.8 lc rgb '#0072B2' title 'all runs (full fit)', \
  'residuals.dat' index 1 using 1:2 with points pt 5 ps 1.1 lc rgb '#D55E00' title 'held out (fit without them)'
