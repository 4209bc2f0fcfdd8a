set terminal svg size 760,480 dynamic enhanced font 'Helvetica,12' background '#ffffff'
set border lw 1 lc '#444444'
set grid lc '#dddddd' lw 1
set key outside right top box lc '#bbbbbb'
set format x '10^{%L}'
set output 'isoflop.svg'
set logscale x
set xlabel 'non-embedding parameters N'
set ylabel 'validation loss'
set title 'IsoFLOP profiles: loss against N at fixed C'
plot \
  'isoflop.dat' index 0 using 1:2 with points pt 7 ps 0.9 lc rgb '#0072B2' title 'C = 1e+14', \
  'isoflop.dat' index 1 using 1:2 with lines lw 1.5 lc rgb '#0072B2' notitle, \
  'isoflop.dat' index 2 using 1:2 with points pt 7 ps 0.9 lc rgb '#E69F00' title 'C = 2.38e+14', \
  'isoflop.dat' index 3 using 1:2 with lines lw 1.5 lc rgb '#E69F00' notitle, \
  'isoflop.dat' index 4 using 1:2 with points pt 7 ps 0.9 lc rgb '#009E73' title 'C = 5.66e+14', \
  'isoflop.dat' index 5 using 1:2 with lines lw 1.5 lc rgb '#009E73' notitle, \
  'isoflop.dat' index 6 using 1:2 with points pt 7 ps 0.9 lc rgb '#D55E00' title 'C = 1.345e+15', \
  'isoflop.dat' index 7 using 1:2 with lines lw 1.5 lc rgb '#D55E00' notitle, \
  'isoflop.dat' index 8 using 1:2 with points pt 7 ps 0.9 lc rgb '#CC79A7' title 'C = 3.2e+15', \
  'isoflop.dat' index 9 using 1:2 with lines lw 1.5 lc rgb '#CC79A7' notitle, \
  'isoflop.dat' index 10 using 1:2 with points pt 3 ps 1.6 lc rgb '#000000' title 'parabola minima'
