namespace Uet;
